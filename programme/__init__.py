"""The scheme domain shared by every service: folding events into scheme state and the
RAG rules. Pure: it imports only the standard library, pydantic and `events`.

It sits outside `services/` because the tracker folds with it while the notifier and the
reporter judge stored state on a given date with the same rules, and services never
import each other.
"""
