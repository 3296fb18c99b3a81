"""The domain: the program's aggregates and events, its rules and its values. It imports
nothing of storage, files, the application, the views or the command line."""
