dns_LDLIBS := -lcares
$(eval $(call library,dns,global util))
