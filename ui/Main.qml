import QtQuick

Window {
    id: root
    objectName: "mainWindow"
    width: 1366
    height: 768
    visible: false
    color: theme.bg
    title: app.demo ? "村口认证（演示）" : "村口认证"

    Theme {
        id: theme
        objectName: "theme"
        elder: app.elderMode
        winW: root.width
        winH: root.height
        dotsPerMm: Screen.pixelDensity > 0 ? Screen.pixelDensity : 4
        family: fontFamily
    }

    readonly property var screens: ({
        "home": "HomeScreen.qml", "identity": "IdentityScreen.qml", "confirm": "ConfirmScreen.qml",
        "helper": "HelperScreen.qml", "category": "CategoryScreen.qml", "consent": "ConsentScreen.qml",
        "face": "FaceScreen.qml", "result": "ResultScreen.qml", "records": "RecordsScreen.qml",
        "notice": "NoticeScreen.qml", "help": "HelpScreen.qml", "staff": "StaffScreen.qml"
    })

    // ---------------------------------------------------------------- header
    Rectangle {
        id: header
        anchors { left: parent.left; right: parent.right; top: parent.top }
        height: Math.round(theme.touch + theme.gap)
        color: theme.header

        Row {
            anchors { left: parent.left; leftMargin: theme.margin; verticalCenter: parent.verticalCenter }
            spacing: theme.gap
            Text {
                objectName: "appTitle"
                anchors.verticalCenter: parent.verticalCenter
                text: "村口认证"
                font.family: theme.family
                font.pixelSize: theme.title * 0.8
                font.bold: true
                color: "#FFFFFF"
                Accessible.role: Accessible.Heading
                Accessible.name: text
                MouseArea {  // staff corner: a long press on the title (read-only page)
                    objectName: "btnStaff"
                    anchors.fill: parent
                    pressAndHoldInterval: 1500
                    onPressAndHold: kiosk.staff()
                    Accessible.role: Accessible.Button
                    Accessible.name: "工作人员"
                    Accessible.onPressAction: kiosk.staff()
                }
            }
            Text {
                visible: !theme.portrait && !theme.elder && root.width > 1300
                anchors.verticalCenter: parent.verticalCenter
                text: "社会保险待遇领取资格认证"
                font.family: theme.family
                font.pixelSize: theme.small
                color: "#FFFFFF"
            }
            Rectangle {
                visible: app.demo
                objectName: "demoBadge"
                anchors.verticalCenter: parent.verticalCenter
                color: theme.demo
                radius: theme.radius / 2
                border.color: "#FFFFFF"
                border.width: 2
                width: demoText.implicitWidth + theme.gap
                height: demoText.implicitHeight + theme.gap / 2
                Accessible.role: Accessible.StaticText
                Accessible.name: "演示模式"
                Text {
                    id: demoText
                    anchors.centerIn: parent
                    text: "演示"
                    font.family: theme.family
                    font.pixelSize: theme.body
                    font.bold: true
                    color: "#FFFFFF"
                }
            }
        }

        Row {
            anchors { right: parent.right; rightMargin: theme.margin / 2; verticalCenter: parent.verticalCenter }
            spacing: theme.gap / 2
            HeaderButton {
                objectName: "btnReplay"
                text: "再听一遍"
                onClicked: app.replay()
            }
            HeaderButton {
                objectName: "btnElder"
                text: app.elderMode ? "大字模式：开" : "大字模式：关"
                accessibleName: app.elderMode ? "关怀大字模式已打开，点按关闭" : "关怀大字模式已关闭，点按打开"
                checked: app.elderMode
                onClicked: app.toggleElder()
            }
            HeaderButton {
                objectName: "btnHelp"
                visible: kiosk.screen === "home"
                text: "帮助"
                onClicked: kiosk.help()
            }
            HeaderButton {
                objectName: "btnHome"
                visible: kiosk.screen !== "home"
                text: "返回首页"
                onClicked: kiosk.home()
            }
        }
    }

    // ---------------------------------------------------------------- screens
    Item {
        id: stage
        anchors { left: parent.left; right: parent.right; top: header.bottom; bottom: parent.bottom }
        clip: true

        Loader {
            id: page
            objectName: "page"
            anchors.fill: parent
            anchors.margins: theme.margin
            source: root.screens[kiosk.screen] || "HomeScreen.qml"
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
            duration: theme.transitionMs
            easing.type: Easing.OutCubic
        }
    }
}
