OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/tree_torch_reference.py --depth 4 --d 64 --loss route --steps 6000 --fresh --eval-every 500 --threads 1 --qk-norm temp --mask-route 0.5
