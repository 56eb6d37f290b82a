"""Everything specific to the InternLM2 model family: checkpoints, tokenizer, chat format, export."""
