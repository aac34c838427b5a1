# dynperiph: CMSIS-style firmware headers generated from a peripheral's SVD.
#
# dynperiph_svd_header(<target> SVD <file.svd> OUTPUT <header.h> [PERIPHERAL <name>] [BASE <addr>])
#
# Creates the custom target <target> that (re)generates <header.h> with tools/svd2header whenever the SVD
# or the tool changes. Firmware that includes the header adds `add_dependencies(<fw> <target>)` and the
# header's directory to its include path. The target carries the properties
#   DYNPERIPH_HEADER       absolute path of the generated header
#   DYNPERIPH_INCLUDE_DIR  its directory
# e.g. get_target_property(dir crc-dma-header DYNPERIPH_INCLUDE_DIR).
include_guard(GLOBAL)

function(dynperiph_svd_header target)
  cmake_parse_arguments(PARSE_ARGV 1 H "" "SVD;OUTPUT;PERIPHERAL;BASE" "")
  if(NOT H_SVD OR NOT H_OUTPUT)
    message(FATAL_ERROR "dynperiph_svd_header(${target}): SVD and OUTPUT are required")
  endif()
  get_filename_component(svd_abs ${H_SVD} ABSOLUTE)
  get_filename_component(out_abs ${H_OUTPUT} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_BINARY_DIR})
  get_filename_component(out_dir ${out_abs} DIRECTORY)
  set(extra)
  if(H_PERIPHERAL)
    list(APPEND extra --peripheral ${H_PERIPHERAL})
  endif()
  if(H_BASE)
    list(APPEND extra --base ${H_BASE})
  endif()
  add_custom_command(OUTPUT ${out_abs}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND svd2header ${extra} -o ${out_abs} ${svd_abs}
    DEPENDS svd2header ${svd_abs}
    COMMENT "Generating ${out_abs} from ${H_SVD}"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${out_abs})
  set_target_properties(${target} PROPERTIES DYNPERIPH_HEADER ${out_abs} DYNPERIPH_INCLUDE_DIR ${out_dir})
endfunction()
