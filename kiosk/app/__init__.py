"""The touchscreen kiosk app (Qt Quick). Screens live in ui/*.qml; this package holds the
Python side: bootstrap, controllers exposed to QML, the camera worker, the voice player,
demo setup and the autopilot. Only this package imports Qt; the engine never does.

Importing the package itself pulls in no Qt. The words come from the catalogue `kiosk.texts`.
"""
