package handlers

import (
	"strings"

	"loandesk/application"
	"loandesk/money"
	"loandesk/views"
)

// labelCounts writes the list's counts for people, grouped the way money
// is (Indian grouping: "10,000", "1,00,000"): the tabs' counts, the
// totals beside them and the pager's range and pages.
func labelCounts(vm *views.LoanList) {
	for i := range vm.Tabs {
		vm.Tabs[i].CountLabel = money.FormatCount(vm.Tabs[i].Count)
	}
	vm.TotalLabel, vm.MatchingLabel = money.FormatCount(vm.Total), money.FormatCount(vm.Matching)
	vm.StatusLabel = strings.ToLower(application.StatusLabels[vm.Status])
	p := &vm.Pager
	p.PageLabel, p.PagesLabel = money.FormatCount(int64(p.Page)), money.FormatCount(int64(p.Pages))
	if vm.Matching > 0 && len(vm.Rows) > 0 {
		first := int64(p.Page-1)*int64(max(p.Size, 1)) + 1
		p.Range = money.FormatCount(first) + "–" + money.FormatCount(first+int64(len(vm.Rows))-1) + " of " + money.FormatCount(vm.Matching)
	}
}
