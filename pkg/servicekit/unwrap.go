package servicekit

// Find unwraps middlewares (values with an Unwrap() S method) from svc down
// to the first layer that is a T, typically the service implementation
// behind its logging and instrumenting middlewares.
func Find[T, S any](svc S) (T, bool) {
	for {
		if t, ok := any(svc).(T); ok {
			return t, true
		}
		u, ok := any(svc).(interface{ Unwrap() S })
		if !ok {
			var zero T
			return zero, false
		}
		svc = u.Unwrap()
	}
}
