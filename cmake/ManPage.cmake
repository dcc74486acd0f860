# kpi(1): the binary writes its manual from its own help texts (kpi --man,
# cli/man.c). Run as a script at build time, after kpi is linked:
#   cmake -DKPI=<kpi binary> -DOUT=<build>/kpi.1 -P cmake/ManPage.cmake
# docs/kpi.1 is the committed copy; tests/test_cli_man.c checks that it is
# the same as what the binary writes.
execute_process(COMMAND "${KPI}" --man OUTPUT_FILE "${OUT}.tmp" RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${KPI} --man failed: ${_rc}")
endif()
file(RENAME "${OUT}.tmp" "${OUT}")
