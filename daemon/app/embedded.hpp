#pragma once
// Files built into pvcd (data/embed_file.cmake generates their definitions
// at build time from the files named here).
#include <string_view>

namespace pvc::embedded {

std::string_view bots_txt();   // data/bots.txt: the built-in bot list
std::string_view widget_js();  // widget/widget.js: served as GET /widget.js
// cluster/pvcd_functions.lua: the Redis Functions cluster mode loads.
std::string_view pvcd_functions_lua();

}  // namespace pvc::embedded
