"""The names of a conflict's outcome, shared by the merge that decides and everyone who reads it."""

# who won, seen from the side that decided (the sink's target)
LOCAL, INCOMING = "local", "incoming"
WINNERS = (LOCAL, INCOMING)
# the rule that decided: the higher field version, or the field's owner on equal versions
NEWER_VERSION, OWNER_TIE = "newer_version", "owner_tie"
RULES = (NEWER_VERSION, OWNER_TIE)
