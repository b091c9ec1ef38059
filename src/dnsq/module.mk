$(eval $(call program,dnsq,test-libexec,dns global util))
