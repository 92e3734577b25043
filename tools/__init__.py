"""Developer tools that are neither part of the stack nor of the Lambdas."""
