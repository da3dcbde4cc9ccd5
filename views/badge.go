package views

import (
	"context"
	"io"

	"github.com/a-h/templ"
)

// statusBadge is <span class="badge badge-{key}">{label}</span>, written
// directly: templ's class={ … } builds a class set (a map) per use, and a
// list page has a badge on every row.
func statusBadge(key, label string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, `<span class="badge badge-`); err != nil {
			return err
		}
		if _, err := io.WriteString(w, templ.EscapeString(key)); err != nil {
			return err
		}
		if _, err := io.WriteString(w, `">`); err != nil {
			return err
		}
		if _, err := io.WriteString(w, templ.EscapeString(label)); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</span>`)
		return err
	})
}
