package annotations

// limitsEntries: Timeouts, body size and retries (proxy-read-timeout, proxy-send-timeout, proxy-body-size, proxy-next-upstream-tries).
var limitsEntries = []Entry{}
