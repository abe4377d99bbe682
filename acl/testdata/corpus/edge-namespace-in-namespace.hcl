namespace "a" {
  namespace "b" {
  }
}
