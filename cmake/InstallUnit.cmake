# Installs dist/kpi.service into <prefix>/lib/systemd/system, its ExecStart
# naming <prefix>/bin/kpi (the file says /usr/bin/kpi). Run by `cmake
# --install` (install(SCRIPT) in CMakeLists.txt), which sets
# KPI_UNIT_SOURCE and KPI_UNIT_STAGING just before.
file(READ "${KPI_UNIT_SOURCE}" unit)
string(REPLACE "/usr/bin/kpi " "${CMAKE_INSTALL_PREFIX}/bin/kpi " unit "${unit}")
file(MAKE_DIRECTORY "${KPI_UNIT_STAGING}")
file(WRITE "${KPI_UNIT_STAGING}/kpi.service" "${unit}")
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${KPI_UNIT_STAGING}/kpi.service")
