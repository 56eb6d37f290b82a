"""The conversation itself: the controller of one turn, the transcript, the composer, the list of conversations."""
