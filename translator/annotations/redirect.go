package annotations

// redirectEntries: Redirects and extra names (permanent-redirect, temporal-redirect, from-to-www-redirect, server-alias).
var redirectEntries = []Entry{}
