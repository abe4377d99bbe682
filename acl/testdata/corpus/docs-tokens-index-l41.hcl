service = {
  id = "redis"
  name = "redis"
  ...
  namespace = "foo"
  token = "233b604b-b92e-48c8-a253-5f11514e4b50"
}
