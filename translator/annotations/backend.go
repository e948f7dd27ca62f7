package annotations

// backendEntries: How the backend is spoken to (backend-protocol, load-balance, proxy-connect-timeout).
var backendEntries = []Entry{}
