package annotations

// tlsEntries: Plain HTTP to https (ssl-redirect, force-ssl-redirect).
var tlsEntries = []Entry{}
