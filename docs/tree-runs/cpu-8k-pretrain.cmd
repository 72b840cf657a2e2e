npx jepa tree --preset cpu --pretrain-steps 8000 --out runs/tree-cpu-8k --backend native --threads 2   (seed 1; stopped after pretraining, in the baseline phase)
