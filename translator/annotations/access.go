package annotations

// accessEntries: Who gets in (whitelist/allowlist/denylist-source-range) and CORS (enable-cors, cors-*).
var accessEntries = []Entry{}
