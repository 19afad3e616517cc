import QtQuick

Window {
    id: root
    objectName: "mainWindow"
    width: 1366
    height: 768
    visible: false
    color: Theme.bg
    title: App.t(App.demo ? "ui_app_name_demo" : "ui_app_name")

    readonly property QtObject theme: Theme  // for tests and tools that measure the layout
    // The Theme singleton follows this window's size and pixel density.
    Binding { target: Theme; property: "winW"; value: root.width }
    Binding { target: Theme; property: "winH"; value: root.height }
    Binding { target: Theme; property: "dotsPerMm"; value: Screen.pixelDensity > 0 ? Screen.pixelDensity : 4 }

    readonly property var screens: ({
        "home": "HomeScreen.qml", "identity": "IdentityScreen.qml", "confirm": "ConfirmScreen.qml",
        "helper": "HelperScreen.qml", "category": "CategoryScreen.qml", "consent": "ConsentScreen.qml",
        "face": "FaceScreen.qml", "result": "ResultScreen.qml", "records": "RecordsScreen.qml",
        "notice": "NoticeScreen.qml", "help": "HelpScreen.qml", "staff": "StaffScreen.qml",
        // staff: login, enrolment, review
        "staffLogin": "StaffLoginScreen.qml", "enrol": "EnrolIdScreen.qml", "enrolConsent": "EnrolConsentScreen.qml",
        "enrolCapture": "EnrolCaptureScreen.qml", "enrolDone": "EnrolDoneScreen.qml", "review": "ReviewScreen.qml",
        "reviewDetail": "ReviewDetailScreen.qml",

        // staff: home visits, certification without a face
        "visits": "VisitListScreen.qml", "visit": "VisitPersonScreen.qml", "fallback": "FallbackScreen.qml",
        "submitted": "SubmittedScreen.qml",

        // staff: due lists and figures
        "due": "DueScreen.qml", "stats": "StatsScreen.qml",

        // admin corner, paused kiosk (kioskapp14: kiosk/app/admin.py)
        "admin": "AdminScreen.qml", "selftest": "SelfTestScreen.qml",
    })

    // ---------------------------------------------------------------- header
    Rectangle {
        id: header
        z: 1  // over a screen moved up for the on-screen keyboard (Keyboard.pan)
        anchors { left: parent.left; right: parent.right; top: parent.top }
        height: Math.round(Theme.touch + Theme.gap)
        color: Theme.header

        Row {
            anchors { left: parent.left; leftMargin: Theme.margin; verticalCenter: parent.verticalCenter }
            spacing: Theme.gap
            Text {
                objectName: "appTitle"
                anchors.verticalCenter: parent.verticalCenter
                text: App.t("ui_app_name")
                font.family: Theme.family
                font.pixelSize: Theme.title * 0.8
                font.bold: true
                color: "#FFFFFF"
                Accessible.role: Accessible.Heading
                Accessible.name: text
                MouseArea {  // staff corner: a long press on the title (PIN pad, then the staff menu)
                    objectName: "btnStaff"
                    anchors.fill: parent
                    pressAndHoldInterval: 1500
                    onPressAndHold: Staff.open()
                    Accessible.role: Accessible.Button
                    Accessible.name: App.t("ui_staff")
                    Accessible.onPressAction: Staff.open()
                }
            }
            Text {
                visible: !Theme.portrait && !Theme.elder && root.width > 1300
                anchors.verticalCenter: parent.verticalCenter
                text: App.t("ui_app_subtitle")
                font.family: Theme.family
                font.pixelSize: Theme.small
                color: "#FFFFFF"
            }
            Rectangle {
                visible: App.demo
                objectName: "demoBadge"
                anchors.verticalCenter: parent.verticalCenter
                color: Theme.demo
                radius: Theme.radius / 2
                border.color: "#FFFFFF"
                border.width: 2
                width: demoText.implicitWidth + Theme.gap
                height: demoText.implicitHeight + Theme.gap / 2
                Accessible.role: Accessible.StaticText
                Accessible.name: App.t("ui_demo_mode")
                Text {
                    id: demoText
                    anchors.centerIn: parent
                    text: App.t("ui_demo")
                    font.family: Theme.family
                    font.pixelSize: Theme.body
                    font.bold: true
                    color: "#FFFFFF"
                }
            }
        }

        Row {
            anchors { right: parent.right; rightMargin: Theme.margin / 2; verticalCenter: parent.verticalCenter }
            spacing: Theme.gap / 2
            HeaderButton {
                objectName: "btnReplay"
                visible: KioskFlow.screen !== "face"  // the face screen has its own, larger one
                text: App.t("ui_replay")
                onClicked: App.replay()
            }
            HeaderButton {
                objectName: "btnElder"
                text: App.t(App.elderMode ? "ui_elder_on" : "ui_elder_off")
                accessibleName: App.t(App.elderMode ? "ui_elder_on_a11y" : "ui_elder_off_a11y")
                checked: App.elderMode
                onClicked: App.toggleElder()
            }
            HeaderButton {
                objectName: "btnHelp"
                visible: KioskFlow.screen === "home"
                text: App.t("ui_help")
                onClicked: KioskFlow.help()
            }
            HeaderButton {
                objectName: "btnHome"
                visible: KioskFlow.screen !== "home"
                text: App.t("ui_home")
                onClicked: KioskFlow.home()
            }
        }
    }

    // ---------------------------------------------------------------- screens
    Item {
        id: stage
        anchors { left: parent.left; right: parent.right; top: header.bottom; bottom: parent.bottom }
        // The on-screen keyboard (kiosk/app/keyboard.py): a scrolling page ends above it, another moves up.
        anchors.bottomMargin: Keyboard.inset
        transform: Translate { y: -Keyboard.pan }
        clip: true

        Loader {
            id: page
            objectName: "page"
            anchors.fill: parent
            anchors.margins: Theme.margin
            source: root.screens[KioskFlow.screen] || "HomeScreen.qml"
            onLoaded: fade.restart()
        }
        // Compile every screen once at start-up (kept in the engine's type cache), so the
        // first tap on a button does not wait for QML compilation of the next screen.
        Timer {
            interval: 200
            running: true
            onTriggered: {
                for (var key in root.screens)
                    Qt.createComponent(root.screens[key], Component.Asynchronous)
            }
        }
        NumberAnimation {
            id: fade
            target: page
            property: "opacity"
            from: 0.0
            to: 1.0
            duration: Theme.transitionMs
            easing.type: Easing.OutCubic
        }
    }

    // ---------------------------------------------------------------- on-screen keyboard (staff text fields)
    Loader {
        id: keyboard
        objectName: "keyboardLoader"
        z: 50
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        active: App.keyboard
        source: "KeyboardPanel.qml"
    }

    // ---------------------------------------------------------------- idle warning (over header and screen)
    IdleWarning {
        anchors.fill: parent
        z: 100
    }
}
