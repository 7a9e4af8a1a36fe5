"""Network component: the private job VPC (or an existing one), endpoints, flow logs, the job network Deny."""
