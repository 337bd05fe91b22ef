package beyondtrust

// Client talks to one appliance. Its implementation is being written; this
// declaration lets the engine compile meanwhile.
type Client struct{}
