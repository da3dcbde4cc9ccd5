package docdecode

import "reflect"

// FastPath reports whether documents of t's type are decoded without the
// driver (when their values allow).
func FastPath(t reflect.Type) bool { return planFor(t) != nil }
