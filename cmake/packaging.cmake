# `make deb`: the Debian package cistern_<version>_<arch>.deb through CPack DEB (docs/packaging.md).
# Native build (build/) -> amd64; the cross build (build-arm64/, cmake/aarch64-linux-gnu.cmake)
# -> arm64. Contents: the three binaries in /usr/bin, the systemd unit in /lib/systemd/system,
# the commented config /etc/cistern/cistern.toml (a conffile), README.md and docs/ in
# /usr/share/doc/cistern, maintainer scripts that create the `cistern` system user and
# /var/lib/cistern (packaging/debian/).
if(PROJECT_VERSION)
  set(_cistern_version ${PROJECT_VERSION})
else()
  set(_cistern_version 0.1.0)
endif()
set(CISTERN_PACKAGE_VERSION ${_cistern_version} CACHE STRING "version of the .deb")

set(_pkg_dir ${PROJECT_SOURCE_DIR}/packaging/debian)
set(_pkg_out ${PROJECT_BINARY_DIR}/packaging)

# The unit as shipped in deploy/, with the binary where the package puts it.
file(READ ${PROJECT_SOURCE_DIR}/deploy/systemd/cistern.service _unit)
string(REPLACE "/usr/local/bin/cistern" "/usr/bin/cistern" _unit "${_unit}")
string(REPLACE "# Install: the binary in /usr/local/bin, a `cistern` system user, /etc/cistern/cistern.toml.\n"
  "# Installed by the cistern Debian package (docs/packaging.md).\n" _unit "${_unit}")
file(WRITE ${_pkg_out}/cistern.service "${_unit}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/deploy/systemd/cistern.service)

# A native version (no Debian revision): changelog.gz, gzipped without a timestamp (-n) and at maximum compression.
execute_process(COMMAND gzip -9nc ${_pkg_dir}/changelog
  OUTPUT_FILE ${_pkg_out}/changelog.gz COMMAND_ERROR_IS_FATAL ANY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_pkg_dir}/changelog)

# Absolute destinations: only the package uses these (cmake --install --prefix /usr/local would
# write /etc and /lib too, so they are in the `deb` component, which CPack alone installs).
install(FILES ${_pkg_out}/cistern.service DESTINATION /lib/systemd/system COMPONENT deb
  EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/cistern.toml DESTINATION /etc/cistern COMPONENT deb
  EXCLUDE_FROM_ALL)
install(FILES ${_pkg_dir}/copyright ${_pkg_out}/changelog.gz ${PROJECT_SOURCE_DIR}/README.md
  DESTINATION share/doc/cistern COMPONENT deb EXCLUDE_FROM_ALL)
# The docs the README links to and the unit's Documentation= names, links kept relative.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION share/doc/cistern/docs COMPONENT deb
  EXCLUDE_FROM_ALL FILES_MATCHING PATTERN "*.md" PATTERN "*.png")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cistern)
set(CPACK_PACKAGE_VERSION ${CISTERN_PACKAGE_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# One package holding the binaries (the default component) and the files above.
set(CPACK_COMPONENTS_ALL Unspecified deb)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGE_CONTACT "Cistern maintainers <maintainers@users.noreply.b-seed-180f44f4.example>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "edge event collector with a durable SQLite buffer")
set(CPACK_PACKAGE_DESCRIPTION
"Cistern accepts events from devices over HTTP (JSON, NDJSON, OTLP) and MQTT,
stores them durably in a local SQLite database and uploads them to a webhook,
NATS JetStream or an MQTT broker, buffering while the upstream is unreachable.
.
The package runs it as a systemd service under the cistern system user, with
its settings in /etc/cistern/cistern.toml and its database in /var/lib/cistern.")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/cistern")
# Runtime Depends from the shared libraries the binaries actually link (dpkg-shlibdeps), plus
# what the maintainer scripts call.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${_pkg_dir}/conffiles ${_pkg_dir}/postinst ${_pkg_dir}/prerm ${_pkg_dir}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
if(CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR STREQUAL "aarch64")
  # CPack would ask dpkg for the build machine's architecture.
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
endif()
include(CPack)
