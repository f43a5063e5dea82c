SRC_escalate := plugins/validate/proxy.c
