"""The baseline of rejected traffic (docs/architecture.md, The notifier, "The baseline").

`keys`: which keys a flow makes and when it happened (pure); `verdicts`: new, known or learning, over any
store (pure but for the store it is given); `dynamo`: the DynamoDB store; `news`: what an event says
about it. `python -m baseline seed` uses the same modules.
"""
