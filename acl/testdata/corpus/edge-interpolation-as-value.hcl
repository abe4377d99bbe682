operator = "${x}"
