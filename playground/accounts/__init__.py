"""Who someone is and what they may do: accounts (views: sign-up, log-in, password reset),
a person for per-person limits (persons), and who may see or change what (permissions)."""
