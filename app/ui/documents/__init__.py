"""The long-document pane and the jobs that read and count a document."""
