# libcsv ships no pkg-config file and no CMake package (DEPENDENCIES.md §2):
# find its header and library, read the version from csv.h, and expose LibCSV::LibCSV.
find_path(LibCSV_INCLUDE_DIR NAMES csv.h)
find_library(LibCSV_LIBRARY NAMES csv)
if(LibCSV_INCLUDE_DIR AND EXISTS "${LibCSV_INCLUDE_DIR}/csv.h")
  file(STRINGS "${LibCSV_INCLUDE_DIR}/csv.h" _csv_major REGEX "^#define CSV_MAJOR [0-9]+")
  file(STRINGS "${LibCSV_INCLUDE_DIR}/csv.h" _csv_minor REGEX "^#define CSV_MINOR [0-9]+")
  file(STRINGS "${LibCSV_INCLUDE_DIR}/csv.h" _csv_release REGEX "^#define CSV_RELEASE [0-9]+")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _csv_major "${_csv_major}")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _csv_minor "${_csv_minor}")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _csv_release "${_csv_release}")
  set(LibCSV_VERSION "${_csv_major}.${_csv_minor}.${_csv_release}")
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LibCSV
  REQUIRED_VARS LibCSV_LIBRARY LibCSV_INCLUDE_DIR VERSION_VAR LibCSV_VERSION)
if(LibCSV_FOUND AND NOT TARGET LibCSV::LibCSV)
  add_library(LibCSV::LibCSV UNKNOWN IMPORTED)
  # SYSTEM include, like the pkg-config targets: our warnings are not libcsv's.
  set_target_properties(LibCSV::LibCSV PROPERTIES
    IMPORTED_LOCATION "${LibCSV_LIBRARY}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${LibCSV_INCLUDE_DIR}")
endif()
mark_as_advanced(LibCSV_INCLUDE_DIR LibCSV_LIBRARY)
