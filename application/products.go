// Package application holds the rules of a loan application that do not
// depend on HTTP or the database: its editable fields and how each is
// validated, the products' limits, the status workflow and who may move
// it, the EMI, and how two admins' edits of one application are compared.
// Handlers (HTML and JSON alike) and the seed generator use it.
package application

// Product is a loan product and its limits (amounts in rupees).
type Product struct {
	Name                   string
	Label                  string
	MinAmount, MaxAmount   int64
	MinTenure, MaxTenure   int
	MinRateBps, MaxRateBps int
	Purposes               []string
	// ProcessingFeeBps is the processing fee charged at disbursement, in
	// basis points of the amount (GST is added on it; see KeyFactsOf).
	ProcessingFeeBps int
	// IndividualsOnly: lent to people, so the PAN must be an individual's.
	IndividualsOnly bool
	// NeedsProperty: secured on a property whose value is on the
	// application (loan-to-value applies).
	NeedsProperty bool
	// FOIRSlabs override the credit policy's FOIR caps for this product
	// (nil: the policy's).
	FOIRSlabs []FOIRSlab
	// GSTBps is GST on the processing fee, in basis points.
	GSTBps int
}

// Products are the products on offer.
var Products = []Product{
	{"personal", "Personal", 50_000, 40_00_000, 12, 60, 1050, 2400, []string{"Wedding", "Medical expenses", "Home renovation", "Travel", "Debt consolidation", "Education"}, 200, true, false, nil, DefaultGSTBps},
	{"home", "Home", 10_00_000, 5_00_00_000, 60, 360, 840, 1150, []string{"Purchase of flat", "Construction of house", "Plot purchase", "Balance transfer"}, 50, true, true, nil, DefaultGSTBps},
	{"auto", "Auto", 1_00_000, 1_00_00_000, 12, 84, 875, 1400, []string{"New car", "Used car", "Two-wheeler", "Commercial vehicle"}, 100, true, false, nil, DefaultGSTBps},
	{"consumer", "Consumer durable (no-cost EMI)", 5_000, 5_00_000, 3, 24, 0, 2400, []string{"Mobile phone", "Laptop", "Home appliance", "Furniture"}, 0, true, false, nil, DefaultGSTBps},
	{"business", "Business", 1_00_000, 50_00_000, 12, 84, 1400, 2600, []string{"Working capital", "Machinery purchase", "Shop expansion", "Inventory"}, 200, false, false, nil, DefaultGSTBps},
}

// ProductByName returns the named product.
func ProductByName(name string) (Product, bool) {
	for _, p := range Products {
		if p.Name == name {
			return p, true
		}
	}
	return Product{}, false
}
