xsasl_LDLIBS := -lsasl2
$(eval $(call library,xsasl,global util))
