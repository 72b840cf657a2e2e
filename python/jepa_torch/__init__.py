"""An independent PyTorch reader of jepa-reasoner checkpoints, written from docs/checkpoint-format.md."""
