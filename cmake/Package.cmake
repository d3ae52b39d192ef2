# The sluice Debian package: `cpack -G DEB` in a release build tree (README.md, "Installing as a
# service"). It installs the four programs, a sandboxed systemd unit running sluiced as the
# `sluice` system user (made by postinst) with its data in /var/lib/sluice (0700), and the docs.
# tests/package/check_deb.sh builds and checks it (lintian, systemd-analyze verify).

install(TARGETS sluiced RUNTIME DESTINATION sbin)
install(TARGETS sluicectl sluice-client sluice-load RUNTIME DESTINATION bin)
install(FILES ${CMAKE_SOURCE_DIR}/server/dist/sluice.service DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/server/dist/default DESTINATION /etc/default RENAME sluice)
install(FILES ${CMAKE_SOURCE_DIR}/server/dist/lintian-overrides
        DESTINATION share/lintian/overrides RENAME sluice)
file(GLOB sluice_docs ${CMAKE_SOURCE_DIR}/docs/*.md ${CMAKE_SOURCE_DIR}/docs/*.svg)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${sluice_docs} ${CMAKE_SOURCE_DIR}/server/dist/copyright
        DESTINATION share/doc/sluice)

set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
# Debian wants a compressed changelog in every package's doc dir.
set(changelog ${CMAKE_BINARY_DIR}/dist/changelog.Debian)
# RFC 2822, at configure time (SOURCE_DATE_EPOCH, when set, makes it reproducible).
string(TIMESTAMP changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${changelog}
  "sluice (${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}) unstable; urgency=medium\n\n"
  "  * Release ${PROJECT_VERSION}: see /usr/share/doc/sluice/README.md.\n\n"
  " -- Sluice developers <sluice@example.invalid>  ${changelog_date}\n")
execute_process(COMMAND gzip -9nf ${changelog})
install(FILES ${changelog}.gz DESTINATION share/doc/sluice)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sluice)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Sluice developers <sluice@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "throttled mass updates of endpoint clients")
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "Sluice moves a fleet of endpoint clients (jump clients, jumpoints, access\n"
  "consoles, agents) to a site's new version without taking the server or the\n"
  "network down: sluiced throttles concurrent upgrades to a live-tunable limit,\n"
  "builds per-site MSI installers, installs site updates and takes backups.\n"
  "This package holds sluiced (run by a systemd unit), sluicectl, the\n"
  "sluice-client agent and the sluice-load tool.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# wixl builds the MSI installers at run time; adduser makes the service user.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, wixl")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "osslsigncode")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/server/dist/debian/postinst
  ${CMAKE_SOURCE_DIR}/server/dist/debian/prerm
  ${CMAKE_SOURCE_DIR}/server/dist/debian/postrm
  ${CMAKE_SOURCE_DIR}/server/dist/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
