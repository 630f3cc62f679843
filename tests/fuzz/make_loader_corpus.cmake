# Seeds for fuzz_multiboot_loader: the test guests' kernels, as they are.
#   cmake -DOUT=DIR -DGUESTS=DIR -P make_loader_corpus.cmake
file(MAKE_DIRECTORY ${OUT}/seeds ${OUT}/work ${OUT}/artifacts)
file(COPY ${GUESTS}/ DESTINATION ${OUT}/seeds FILES_MATCHING PATTERN "*.elf" PATTERN "*.bzImage" PATTERN "obj" EXCLUDE)
