tls_LDLIBS := -lssl -lcrypto
$(eval $(call library,tls,global util))
