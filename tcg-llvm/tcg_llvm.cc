// Anchor translation unit: keeps rewind_tcg a valid library while its
// components are added file by file.
namespace rwd::tcg {}
