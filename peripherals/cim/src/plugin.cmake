# plugins/cim.so: the composition plugin (included from ../CMakeLists.txt once the SDK is there).
dynperiph_add_plugin(cim_plugin cim
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/src/cim.cpp ${CMAKE_CURRENT_SOURCE_DIR}/src/engine.cpp
  SVD ${CMAKE_CURRENT_SOURCE_DIR}/cim.svd
  LIBS cim_ops)
