# hash
// slashes
/* block
   comment */ peering = "read" # trailing
key "a" { policy = "list" } // trailing
