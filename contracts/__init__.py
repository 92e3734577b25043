"""Facts shared by the stack, both Lambdas, the local pipeline and the tests (packaged into each zip)."""
