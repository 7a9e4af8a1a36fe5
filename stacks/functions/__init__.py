"""Lambda functions component: the functions pipeline Lambda steps invoke."""
