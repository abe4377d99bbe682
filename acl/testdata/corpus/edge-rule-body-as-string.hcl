service = { web = "write" }
