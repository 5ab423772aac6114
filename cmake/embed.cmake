# Writes OUT, a C++ file defining qorgau::cli::kOpenApiYaml with IN's bytes
# (UTF-8 included: each byte is cast, as a char may be signed).
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "char(0x\\1)," bytes "${content}")
file(WRITE ${OUT} "namespace qorgau::cli {\nextern const char kOpenApiYaml[];\nconst char kOpenApiYaml[] = {${bytes}0x00};\n}  // namespace qorgau::cli\n")
