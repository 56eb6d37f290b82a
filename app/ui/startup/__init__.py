"""Starting the app: the entry, one instance per user, the crash hook, the self-test."""
