#!/bin/sh
# Rebuilds the committed fat-binary fixtures (needs nvcc; the tests only read the results).
#   libsmall.so    SASS sm_75 sm_86 sm_90a + PTX compute_90, every image LZ4-compressed
#   librdc.so      -rdc: device-linked SASS sm_80 sm_89 in .nv_fatbin, and the objects'
#                  sm_80 sm_89 + compute_89 left in __nv_relfatbin (which cuobjdump skips)
#   relocatable.o  -dc: GPU code only in __nv_relfatbin (which cuobjdump then lists)
# Built with CUDA 13.0 (nvcc V13.0.88); strip keeps the sections but drops the symbols.
set -eu
cd "$(dirname "$0")"
nvcc -shared -Xcompiler -fPIC -cudart shared -o libsmall.so k.cu \
    -gencode arch=compute_75,code=sm_75 \
    -gencode arch=compute_86,code=sm_86 \
    -gencode arch=compute_90a,code=sm_90a \
    -gencode arch=compute_90,code=compute_90 \
    -Xfatbin -compress-all
nvcc -rdc=true -shared -Xcompiler -fPIC -cudart shared -o librdc.so k.cu \
    -gencode arch=compute_80,code=sm_80 \
    -gencode arch=compute_89,code=[sm_89,compute_89]
strip libsmall.so librdc.so
nvcc -dc -o relocatable.o k.cu -gencode arch=compute_80,code=[sm_80,compute_80]
