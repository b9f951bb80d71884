package servicekit

// Route is one HTTP route of a service: its method, Go ServeMux pattern and
// operation name (the operationId of its OpenAPI file).
type Route struct {
	Method, Pattern, Name string
}
