package annotations

// routingEntries: Paths, rewrites and upstream host (use-regex, rewrite-target, app-root, x-forwarded-prefix, upstream-vhost).
var routingEntries = []Entry{}
