// ACSCore
