# Turns a file into a C++ source defining `std::string_view pvc::embedded::NAME()`
# with the file's bytes, so pvcd carries its default data (the bot list, the
# widget script) without reading any file at run time.
#   cmake -DINPUT=file -DOUTPUT=file.cpp -DNAME=identifier -P embed_file.cmake
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# Sixteen bytes a line keeps the generated file readable in a debugger.
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by data/embed_file.cmake. Do not edit.
#include <string_view>

namespace pvc::embedded {
namespace {
constexpr unsigned char bytes[] = {
    ${bytes}0x00};
}  // namespace

std::string_view ${NAME}() {
  return {reinterpret_cast<const char*>(bytes), ${size}};
}

}  // namespace pvc::embedded
")
# Only touch the output when it changed, so an unchanged input rebuilds nothing.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
