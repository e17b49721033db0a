# Writes OUT, a C file defining NAME[] and NAME_len with the bytes of IN, so
# the installed binary needs no data files.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE "${OUT}" "/* Generated from ${IN}; do not edit. */\n"
  "const char ${NAME}[] = {${body} 0};\n"
  "const unsigned long ${NAME}_len = ${bytes};\n")
